#!/bin/sh
# Fills every empty NAME= line of deploy/.env with a fresh random secret (creating .env from
# .env.example first if there is none). Values already set are left alone, so it is safe to
# run again. Needs openssl.
#
#   ./generate-secrets.sh                                  # production-shaped .env
#   cp .env.example .env && cat trial.env >> .env && ./generate-secrets.sh   # trial on localhost
set -eu
cd "$(dirname "$0")"
umask 077
[ -f .env ] || cp .env.example .env

tmp=$(mktemp .env.XXXXXX)
trap 'rm -f "$tmp"' EXIT
filled=0
while IFS= read -r line || [ -n "$line" ]; do
  name=${line%%=*}
  case "$line" in
    \#* | '' | *[!=]) printf '%s\n' "$line" ;; # comments, blank lines, lines with a value
    *)
      case "$name" in
        '' | *[!A-Z0-9_]*) printf '%s\n' "$line" ;;
        *)
          # 32 random bytes as hex: safe in URLs, shells and this file.
          secret=$(openssl rand -hex 32)
          # LiteLLM wants its keys to start with sk-.
          case "$name" in LITELLM_MASTER_KEY | LITELLM_SALT_KEY) secret="sk-$secret" ;; esac
          printf '%s=%s\n' "$name" "$secret"
          filled=$((filled + 1))
          ;;
      esac
      ;;
  esac
done <.env >"$tmp"
mv "$tmp" .env
trap - EXIT
chmod 600 .env
echo "deploy/.env: $filled secret(s) generated."
