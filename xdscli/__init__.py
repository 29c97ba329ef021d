"""`xds`: the dashboard's API from a shell (installed with the project as a console script).

It talks only HTTP to the dashboard's API (/api/v1/) with a member's personal token, so it
can do exactly what that member may do on the pages, no more: the dashboard decides.

- `config`: where the URL and token are kept (`xds login`), or XDS_API_URL / XDS_API_TOKEN.
- `client`: the HTTP calls, and the API's errors as exceptions with an exit code each.
- `output`: tables for people, JSON for programs.
- `main`: the commands, `--wait`, and the exit codes (listed in `main.EXIT_CODES`).
"""
