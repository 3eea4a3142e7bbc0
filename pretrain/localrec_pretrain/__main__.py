import os
import sys

from .train import main

code = main()
if "WORLD_SIZE" in os.environ:
    # A distributed worker leaves without interpreter teardown: gloo's threads must not
    # hold the exit (see the end of train.run).
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
sys.exit(code)
