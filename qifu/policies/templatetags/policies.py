from django import template

register = template.Library()


@register.simple_tag
def my_policy_summary(user):
    """{% my_policy_summary user as summary %}: eligible clauses and their estimated total, for the home card."""
    from qifu.policies.views import my_summary

    return my_summary(user) if getattr(user, "is_authenticated", False) else None


@register.filter
def yuan(value, digits=2):
    """An amount with thousands separators (1,234,567.00), whatever the locale's number format."""
    if value is None or value == "":
        return "—"
    try:
        return f"{float(value):,.{int(digits)}f}"
    except (TypeError, ValueError):
        return value
