"""The test suite as a regular package: ppi-python installs a top-level ``tests`` package into site-packages, which
would otherwise shadow this folder when a worker process (tests/test_concurrency.py) imports ``tests.test_concurrency``."""
