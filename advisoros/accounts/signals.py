"""Nothing here yet: authentication signals are turned into audit events in advisoros.audit."""
