"""Triage, between the rules and the reports: what counts for the gate.

`suppressions` applies the reasons written in the templates (per template, inside the workers);
`baseline` sets aside the findings a team has accepted for now (once, after the whole scan).
"""
