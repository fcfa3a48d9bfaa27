// The end-to-end tests run the Linux agent for real (netlink, fanotify, setpriv).
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
