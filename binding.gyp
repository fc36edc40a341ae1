{
  "targets": [
    {
      "target_name": "etlt",
      "sources": [
        "native/args.c",
        "native/syscalls.c",
        "native/select.c",
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
      "conditions": [["OS!='linux'", {"type": "none", "sources": []}]]
    }
  ]
}
