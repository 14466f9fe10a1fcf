"""The front desk (综合受理): visits, first-contact ownership, one-time notices, receipts, 容缺受理, station response."""
