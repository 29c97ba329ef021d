# The dashboard's image: one image for web (gunicorn), worker, beat, migrate and the simulator.
#   docker build -t xds-dashboard .
# Dependencies come only from requirements/prod.lock, each checked against its hash.

# --- build: a virtual environment with the locked dependencies -------------------------------
FROM python:3.11-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
# python-ldap (for LDAP sign-in) is built from source against OpenLDAP's and SASL's headers.
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libldap2-dev libsasl2-dev \
    && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
COPY requirements/prod.lock /tmp/prod.lock
RUN /opt/venv/bin/pip install --require-hashes --no-deps -r /tmp/prod.lock

# --- runtime: the code, the collected static files, an unprivileged user -------------------
FROM python:3.11-slim-bookworm AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=dashboard.settings \
    XDS_VAR_DIR=/var/lib/xds \
    XDS_STATIC_ROOT=/app/staticfiles \
    XDS_SERVE_STATIC=true \
    XDS_LOG_FORMAT=json
# The libraries python-ldap was built against.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libldap-2.5-0 libsasl2-2 \
    && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 xds \
    && useradd --system --uid 10001 --gid xds --no-create-home --home-dir /nonexistent xds \
    && mkdir -p /var/lib/xds \
    && chown xds:xds /var/lib/xds
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY manage.py pyproject.toml ./
COPY dashboard/ dashboard/
COPY vmclient/ vmclient/
COPY templates/ templates/
COPY locale/ locale/
COPY static/ static/
COPY deploy/ deploy/
# Hashed, compressed copies for WhiteNoise; the build needs no secrets or services for it. The
# settings refuse to load without a secret key, so collectstatic gets a random one for this
# command only: it signs nothing, and is in no layer of the image.
RUN DJANGO_SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
    XDS_VAR_DIR=/tmp/xds-build python manage.py collectstatic --noinput -v 0 \
    && rm -rf /tmp/xds-build
USER xds:xds
EXPOSE 8000
CMD ["gunicorn", "--config", "deploy/gunicorn.conf.py", "dashboard.wsgi:application"]
