# Ritrovo game server image.  Build context: the repo root (see .dockerignore).
#   docker build -t ritrovo .
#   docker run -p 8080:8080 ritrovo                  # embedded in-memory store
#   docker compose up                                # with Redis (docker-compose.yml)
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first, so editing the sources does not re-download them.
COPY pyproject.toml ./
COPY server ./server
RUN pip install . && rm -rf build

# The rest (web/, puzzles/, docs/...) for anything read relative to /app.
COPY . .

RUN useradd --system --no-create-home --home-dir /app ritrovo
USER ritrovo

EXPOSE 8080
CMD ["ritrovo", "serve", "--host", "0.0.0.0", "--port", "8080"]
