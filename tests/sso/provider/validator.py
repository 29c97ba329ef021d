from oauth2_provider.oauth2_validators import OAuth2Validator


class Validator(OAuth2Validator):
    # Every claim below in the ID token and the userinfo answer, whatever the scopes.
    oidc_claim_scope = None

    def get_additional_claims(self, request):
        user = request.user
        groups = sorted(user.groups.values_list("name", flat=True))
        return {
            # Keycloak's place for them too, nested.
            "realm_access": {"roles": groups},
            "preferred_username": user.username,
            "email": user.email,
            "given_name": user.first_name,
            "family_name": user.last_name,
            "groups": groups,
        }
