"""Starting tasks and answering for them: the base task, task records, outcomes, status, revoke."""
