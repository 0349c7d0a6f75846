"""The package's version, in a module of its own so that inner modules need not import the
package's face (``apivideo_insights/__init__``) to read it."""

__version__ = "0.1.0"
