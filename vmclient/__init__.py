"""Everything about the Xuandashi open API: the client, its result types, its errors, a simulator.

`vmclient.client`, `vmclient.types` and `vmclient.errors` import nothing from Django, so the
client can be used and tested on its own; `dashboard.upstream` builds one from Django settings.
"""
