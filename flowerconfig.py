"""Flower's settings: `celery -A tasks flower` reads this file from the current directory.

Flower applies this file after its FLOWER_* environment variables, so the
settings below read the environment themselves. The post's
`FLOWER_PERSISTENT=True celery -A tasks flower` works as written.
"""

import os

# Only this machine can reach Flower; FLOWER_ADDRESS=0.0.0.0 opens it to the network.
address = os.environ.get("FLOWER_ADDRESS", "127.0.0.1")

# The Broker page asks RabbitMQ's management API for the queues: the stack's
# native node serves it on 8080 (Compose sets its own address).
broker_api = os.environ.get("FLOWER_BROKER_API", "http://guest:guest@localhost:8080/api/")

# Every page and API call needs this login. The default is for local use only:
# set FLOWER_BASIC_AUTH=user:password before Flower is reachable by anyone else.
basic_auth = [os.environ.get("FLOWER_BASIC_AUTH") or "flower:flower"]

# In persistent mode Flower saves what it has seen on a clean stop (Ctrl-C,
# SIGTERM) and, with this, every 5 seconds: a crash loses at most 5 seconds.
state_save_interval = int(os.environ.get("FLOWER_STATE_SAVE_INTERVAL", "5000"))

# The Tasks page shows each task's arguments and result too.
tasks_columns = "name,uuid,state,args,result,received,runtime,worker"

del os
