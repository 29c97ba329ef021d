"""The REST API (/api/v1/): what the pages do, for scripts and the `xds` command.

A request authenticates with a member's personal token (`Authorization: Bearer xds_...`,
dashboard.services.tokens); the token's scope must allow the request (`access.TokenScope`), and
then the same services, permission checks and operation state machine as the pages decide:
there is no second path to the provider. Reads come from the selectors, as the pages' do.

- `authentication`: the bearer token.
- `access`: scopes, and the rate each token may make requests at.
- `errors`: every error as JSON with a `detail` in the asked language (Accept-Language).
- `serializers`: what a host, a disk, a personal image, an operation, a template and an image
  look like.
- `views`, `storage` (cloud disks, personal images), `urls`: the endpoints; the OpenAPI
  document at /api/v1/schema/, its page at /api/v1/docs/.
"""
