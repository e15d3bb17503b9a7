{
  "targets": [
    {
      "target_name": "lvsdeck_tun",
      "sources": ["tun.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"]
    }
  ]
}
