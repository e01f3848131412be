import socket, threading, sys
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(('127.0.0.1', 5699)); ls.listen(1)
c, _ = ls.accept()
s = socket.create_connection(('127.0.0.1', 5682))
def pump(a, b, path):
    with open(path, 'wb') as f:
        while True:
            d = a.recv(65536)
            if not d:
                try: b.shutdown(socket.SHUT_WR)
                except: pass
                return
            f.write(d); f.flush(); b.sendall(d)
t1 = threading.Thread(target=pump, args=(c, s, '/tmp/cap/c2s.bin')); t2 = threading.Thread(target=pump, args=(s, c, '/tmp/cap/s2c.bin'))
t1.start(); t2.start(); t1.join(); t2.join()
