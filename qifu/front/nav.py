def shell_context(request) -> dict:
    return {}
