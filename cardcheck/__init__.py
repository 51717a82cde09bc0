"""cardcheck: integrity checks of one-card (一卡通) social-assistance payments."""

__version__ = "0.1.0"
