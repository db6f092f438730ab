"""The claims ledger: which claims of the LAD paper, and which of the suite's own findings,
hold on the results on disk (``ladbench claims`` writes CLAIMS.md and claims.json).

- ``evidence``: the results a claim reads, selected and summarised over seeds
- ``ledger``: claims as data, verdicts from stated rules, the written ledger
- ``registry``: the claims themselves
"""
