"""`tapaudit fix`: apply findings' fixes to hand-written CloudFormation and SAM templates.

`command.run_fix` is the command; `engine.fix_source` fixes one template; `batch.fix_all` every
scanned file, and `batch.fix_offers` gives the pipeline each finding's `fixable` flag and SARIF
`fixes` (`sarif.fixes_by_finding`) for the reports. Planners (rule knowledge) live in `fixing.rules`,
the text surgery (no rule knowledge) in `document`, `edits` and `render`.
"""
