"""Stand-in for ansible-test's pip bootstrap script (ci-files.testing.ansible.com/get-pip-*.py,
which this machine cannot reach). `make sanity` saves it where ansible-test caches that script,
next to the pip wheel it downloaded from PyPI. Like get-pip.py, it runs pip from the wheel to
install the packages ansible-test asks for (pip==VERSION, optionally setuptools and wheel)."""
import glob
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
wheels = glob.glob(os.path.join(here, "pip-*-py3-none-any.whl"))
if len(wheels) != 1:
    sys.exit("get_pip stand-in: expected one pip wheel beside %s, found %d" % (here, len(wheels)))
sys.path.insert(0, wheels[0])

from pip._internal.cli.main import main  # noqa: E402  (importable only from the wheel)

args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
sys.exit(main(["install", "--upgrade", "--force-reinstall", *args]))
