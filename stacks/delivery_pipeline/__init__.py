"""Parts of the delivery pipeline: source, build steps, approval, notifications, rollback."""
