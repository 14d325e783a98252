"""Customer records (客户档案), their change history and caller lookup."""
