# Mukaika: multi-stage build, then a slim Debian runtime.
# Build where a Docker engine runs (these development machines have none):
#   docker build -t mukaika .
#   docker run -p 2525:2525 -v mukaika-var:/var/lib/mukaika \
#     -v /etc/mukaika/mukaika.toml:/etc/mukaika/mukaika.toml:ro mukaika
# It does what the README's first command does, with the config mounted.

FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin mukaika

FROM debian:bookworm-slim
# LibreOffice without its GUI converts legacy Office, RTF and ODF (and, by
# the strict profile, docx/xlsx/pptx) in its own sandbox; the IPAex fonts
# draw their Japanese text (without them: empty boxes), and that of PDFs
# that do not embed their Japanese fonts when they are flattened.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
      libreoffice-writer-nogui libreoffice-calc-nogui libreoffice-impress-nogui \
      fonts-ipaexfont-gothic fonts-ipaexfont-mincho \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home-dir /var/lib/mukaika --create-home --shell /usr/sbin/nologin mukaika
COPY --from=build /src/target/release/mukaika /usr/local/bin/mukaika
# The config is mounted, not baked in: start from config/mukaika.toml, with
# `listen = "0.0.0.0:2525"` (the process is unprivileged: no port below 1024)
# and [spool]/[quarantine] dirs below /var/lib/mukaika.
# Spool and quarantine (the config's [spool] dir and [quarantine] dir should
# point below this volume, e.g. /var/lib/mukaika/spool).
VOLUME ["/var/lib/mukaika"]
WORKDIR /var/lib/mukaika
USER mukaika
EXPOSE 2525
ENTRYPOINT ["/usr/local/bin/mukaika"]
CMD ["serve", "--config", "/etc/mukaika/mukaika.toml"]
