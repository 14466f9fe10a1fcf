def shell(request):
    """Navigation and banners shared by every page (filled in by qifu.front.nav)."""
    from .nav import shell_context

    return shell_context(request)
