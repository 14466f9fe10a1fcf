"""qifu (企服): platform for an enterprise comprehensive service center."""

__version__ = "0.1.0"
