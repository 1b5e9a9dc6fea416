from . import main  # noqa: F401  (commands of this area register on main)
