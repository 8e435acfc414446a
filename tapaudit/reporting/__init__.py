"""Reports: console (rich), JSON (a stable contract) and SARIF 2.1.0 (for code scanning)."""
