"""The model floor: the engine host, the one model worker, model jobs and the token-budget window.

Nothing here sees the session; features hand in what a job needs."""
