"""Operations: structured logs with request ids, the health report, backup and restore."""
