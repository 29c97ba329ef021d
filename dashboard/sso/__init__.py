"""Single sign-on: members signing in through the team's directory instead of a local password.

Two ways, each on when configured (XDS_OIDC_*, XDS_LDAP_*, see .env.example):
- `oidc`: "Sign in with <name>" sends the member to an OpenID Connect provider (authorization
  code flow with PKCE, mozilla-django-oidc); its signed ID token and its userinfo say who they
  are and in which groups.
- `ldap`: the password form checks the name and password against an LDAP server
  (django-auth-ldap): a bind as the member, at a DN made from a template or found by a search.

Either way the account is the one with the directory's user name, made on the first sign-in
(`roles` then maps the directory's groups to roles, on every sign-in), never a superuser's
(those keep their local password: the break-glass accounts). `policy` says when a local password
may still be used (an admin may require single sign-on for everyone else), and `methods` names
how a session was signed in, for the audit trail.
"""
