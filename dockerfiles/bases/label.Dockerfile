# The last step of every local base image: the same image, with labels that say what it stands in for,
# what went into it and the key that lets `nox -s bases` skip it when nothing changed.
ARG IMAGE
FROM ${IMAGE}
