{
  # etlt_sanitize=1 (`npm run test:asan` sets it, building in build-asan/): ASan and UBSan,
  # every UB report fatal, frames kept for the reports' stacks.
  "variables": {"etlt_sanitize%": 0},
  "targets": [
    {
      "target_name": "etlt",
      "sources": [
        "native/args.c",
        "native/syscalls.c",
        "native/select.c",
        "native/files.c",
        "native/ioctl.c",
        "native/handle.c",
        "native/fdtable.c",
        "native/os.c",
        "native/dgram.c",
        "native/gpio.c",
        "native/uring.c",
        "native/watch.c",
        "native/turn.c",
        "native/constants.c",
        "native/module.c"
      ],
      # Hidden: what the native/ files share stays out of the dynamic symbol table (only the
      # module entry points are exported), so no symbol of node's can interpose on them.
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter", "-std=gnu11",
                 "-fvisibility=hidden"],
      "defines": ["NAPI_VERSION=8"],
      "conditions": [
        ["OS!='linux'", {"type": "none", "sources": []}],
        ["etlt_sanitize==1", {
          "cflags": ["-fsanitize=address,undefined", "-fno-sanitize-recover=all",
                     "-fno-omit-frame-pointer", "-g"],
          "ldflags": ["-fsanitize=address,undefined"]
        }]
      ]
    }
  ]
}
