"""Planning: the per-file context and profiles, the walker, the one planner, the plan and its application."""
