"""Runs a command under a seccomp filter that answers io_uring_setup(2) with an errno, as
Docker's default profile and Kubernetes' RuntimeDefault do (EPERM), or as a kernel without
io_uring would (ENOSYS): python3 no-io-uring.py ERRNO COMMAND [ARGS...]. x86-64 only (425 is
io_uring_setup there). The filter holds for the command and everything it starts."""
import ctypes, os, struct, sys
libc = ctypes.CDLL(None, use_errno=True)
errno_val = int(sys.argv[1]); argv = sys.argv[2:]
# BPF: load the syscall number; io_uring_setup (425) -> SECCOMP_RET_ERRNO|errno; else allow.
def ins(code, jt, jf, k): return struct.pack('HBBI', code, jt, jf, k)
prog = ins(0x20, 0, 0, 0) + ins(0x15, 0, 1, 425) + ins(0x06, 0, 0, 0x00050000 | errno_val) + ins(0x06, 0, 0, 0x7fff0000)
buf = ctypes.create_string_buffer(prog, len(prog))
class Fprog(ctypes.Structure): _fields_ = [('len', ctypes.c_ushort), ('filter', ctypes.c_void_p)]
fp = Fprog(len(prog) // 8, ctypes.cast(buf, ctypes.c_void_p))
assert libc.prctl(38, 1, 0, 0, 0) == 0
assert libc.prctl(22, 2, ctypes.byref(fp), 0, 0) == 0, ctypes.get_errno()
os.execv(argv[0], argv)
