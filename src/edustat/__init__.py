"""edustat: county school statistics -> provincial warehouse -> 优质均衡 marts and reports."""

__version__ = "0.1.0"
