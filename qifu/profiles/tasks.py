"""Jobs of the profiles app (registered with qifu.jobs)."""

from qifu import jobs


@jobs.periodic("profiles.apply_tag_rules", seconds=6 * 3600)
def apply_tag_rules() -> None:
    """Imports and pushes re-apply the rules at once; this catches what changes without them: registry
    edits (industry, size), rules reading dates (years_since) and values edited in the admin in bulk."""
    from .services import apply_tag_rules as apply

    apply()
