"""Child process for the ``llama_server`` fixture: the llama.cpp server of the PyPI wheel
``xllamacpp``, in its own process so that a crash in native code never takes pytest down.

``python llama_server_process.py CONFIG_JSON``: starts the server on 127.0.0.1 with a
port the OS picks, prints ``{"address": "http://127.0.0.1:PORT"}`` on one stdout line,
then serves until its stdin closes (the parent closing the pipe, or dying).
"""

from __future__ import annotations

import json
import os
import sys


def main(config_json: str) -> None:
    import xllamacpp as xlc

    config = json.loads(config_json)
    params = xlc.CommonParams()
    params.model.path = config["model"]
    params.hostnames = ["127.0.0.1"]
    params.port = 0  # the OS picks a free port; the server reports it
    params.n_parallel = config["parallel"]
    params.n_ctx = config["ctx_per_slot"] * config["parallel"]
    params.cpuparams.n_threads = config["threads"]
    params.cpuparams_batch.n_threads = config["threads"]
    params.warmup = False
    params.endpoint_props = True
    params.endpoint_slots = True
    params.endpoint_metrics = True
    if config.get("lora"):
        # Loaded at scale 0: requests choose it with "lora": [{"id": 0, "scale": 1.0}].
        params.lora_adapters = [xlc.CommonAdapterLoraInfo(path, 0.0) for path in config["lora"]]
        params.lora_init_without_apply = True
    server = xlc.Server(params)
    print(json.dumps({"address": server.listening_address}), flush=True)
    sys.stdin.read()
    # Skip native teardown: the process is done, and exiting must not hang the fixture.
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1])
