# What a pip wheel holds (pyproject.toml; scikit-build-core sets SKBUILD and the *_DIR
# variables): the binary in the environment's scripts folder, so that `qfp8-cuda` is a
# command there (bin/ in a venv, Scripts\ in ComfyUI's embedded Python) and runs directly, not
# through a Python launcher: Ctrl-C, SIGTERM and the exit code reach the tool itself, which
# removes its temporary output on an interrupt. The man page goes to the environment's
# share/man. The Python package (python/qfp8) is copied by scikit-build-core itself.
#
# The binary is QFP8_SELF_CONTAINED (pyproject.toml): it needs only the C library (auditwheel
# then gives the Linux wheel a manylinux tag), with the CUDA runtime linked statically.
install(TARGETS qfp8-cuda RUNTIME DESTINATION "${SKBUILD_SCRIPTS_DIR}" COMPONENT qfp8_wheel)
install(FILES "${PROJECT_SOURCE_DIR}/docs/qfp8-cuda.1"
        DESTINATION "${SKBUILD_DATA_DIR}/share/man/man1" COMPONENT qfp8_wheel)
