// Package simport gives the device simulators (hardware/modemsim,
// hardware/secasim) their end of a serial line: a pseudo-terminal in raw
// mode, whose other end a driver opens as serial:///dev/pts/N or through
// a symlink kept pointing at it, as udev's /dev/serial/by-id names are.
package simport

import (
	"fmt"
	"os"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// Port is an open pseudo-terminal pair.
type Port struct {
	// Master is the simulator's end, on the runtime poller, so that
	// closing it ends a pending Read.
	Master *os.File
	// Slave is the driver's end, held open: a pty master reads EIO when
	// no slave is open.
	Slave *os.File
}

// Open opens a pair with the slave in raw mode. When link is set it is
// pointed at the slave, atomically (a driver opening it meanwhile finds
// the old target or the new one).
func Open(link string) (*Port, error) {
	ptmx, slave, err := pty.Open()
	if err != nil {
		return nil, err
	}
	master, err := pollable(ptmx)
	if err != nil {
		slave.Close()
		return nil, err
	}
	p := &Port{Master: master, Slave: slave}
	if err := makeRaw(slave); err != nil {
		p.Close()
		return nil, fmt.Errorf("raw mode: %w", err)
	}
	if link != "" {
		tmp := link + ".tmp"
		os.Remove(tmp)
		err := os.Symlink(slave.Name(), tmp)
		if err == nil {
			err = os.Rename(tmp, link)
		}
		if err != nil {
			p.Close()
			return nil, fmt.Errorf("link: %w", err)
		}
	}
	return p, nil
}

// Close closes both ends: the driver's reads and writes fail (EIO).
func (p *Port) Close() {
	p.Master.Close()
	p.Slave.Close()
}

// pollable returns f as a file on the runtime poller, so that Close ends a
// pending Read (pty.Open's master is in blocking mode: its Fd was used),
// and closes f.
func pollable(f *os.File) (*os.File, error) {
	defer f.Close()
	fd, err := unix.Dup(int(f.Fd()))
	if err != nil {
		return nil, err
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return os.NewFile(uintptr(fd), f.Name()), nil
}

// makeRaw turns off the line discipline: no echo, no CR/LF mapping.
func makeRaw(f *os.File) error {
	fd := int(f.Fd())
	t, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return err
	}
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	t.Oflag &^= unix.OPOST
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	t.Cflag &^= unix.CSIZE | unix.PARENB
	t.Cflag |= unix.CS8
	t.Cc[unix.VMIN], t.Cc[unix.VTIME] = 1, 0
	return unix.IoctlSetTermios(fd, unix.TCSETS, t)
}
