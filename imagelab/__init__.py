"""imagelab: build sample apps as several Dockerfile variants, smoke-test them and measure what each saves."""

from pathlib import Path

#: The repository root: apps/, dockerfiles/ and results/ live beside the package (flat layout).
ROOT = Path(__file__).resolve().parent.parent

__version__ = "0.1.0"
