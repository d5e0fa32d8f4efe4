"""The web console (一张图): server-rendered pages over the REST API, assets vendored for offline use."""
