"""`tapaudit fix`: apply findings' fixes to hand-written CloudFormation and SAM templates.

`command.run_fix` is the command; `engine.fix_source` fixes one template; `sarif.fixes_by_finding`
gives reports the same edits as SARIF `fixes`. Planners (rule knowledge) live in `fixing.rules`,
the text surgery (no rule knowledge) in `document`, `edits` and `render`.
"""
