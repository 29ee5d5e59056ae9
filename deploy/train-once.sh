#!/bin/sh
# The trainer as a one-shot job: trains into /models unless a model is already there.
set -eu
if [ -f /models/LATEST ]; then
  echo "Model $(cat /models/LATEST) already in /models; not training."
  exit 0
fi
exec java -jar /app/trainer.jar train --output /models --cache-dir /data/mnist "$@"
