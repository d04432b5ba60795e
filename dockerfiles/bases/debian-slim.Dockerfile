# Stand-in for debian:trixie-slim. The root file system is Debian 13's "minbase" variant (the Essential
# packages, the required ones and apt) made by mmdebstrap; documentation is left out by a dpkg path-exclude
# file that also applies to every package a later Dockerfile installs. One layer, like the official image.
FROM scratch
ADD rootfs.tar /
CMD ["bash"]
