# Stand-ins for gcr.io/distroless/{static,base,cc,python3,nodejs22}-debian1X:nonroot. The root file system
# holds only the files of the packages bases.toml names, unpacked from their .deb files (no shell, no
# package manager), plus /etc/passwd, /etc/group, the CA bundle and one dpkg record per package.
FROM scratch AS plain
ADD rootfs.tar /
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
# :nonroot images run as nonroot (UID 65532, not 65534 = nobody) in its home directory.
USER 65532
WORKDIR /home/nonroot

# The entrypoint names the interpreter's version, as distroless's does; an exec-form ENTRYPOINT takes no
# build argument, so each Debian release's Python has its stage (bases.toml: target = "python{python}").
FROM plain AS python3.13
ENV LANG=C.UTF-8
ENTRYPOINT ["/usr/bin/python3.13"]

FROM plain AS python3.11
ENV LANG=C.UTF-8
ENTRYPOINT ["/usr/bin/python3.11"]

FROM plain AS nodejs
ENTRYPOINT ["/nodejs/bin/node"]
