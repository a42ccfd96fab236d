"""The system of record: inventory ledger, master data and documents."""
