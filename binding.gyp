{
  "targets": [
    {
      "target_name": "etlt",
      "sources": ["native/etlt.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter", "-std=gnu11"],
      "defines": ["NAPI_VERSION=8"],
      "conditions": [["OS!='linux'", {"type": "none", "sources": []}]]
    }
  ]
}
