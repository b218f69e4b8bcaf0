package bootstrap

// noFollow is nothing on Windows: O_CREATE|O_EXCL (CREATE_NEW) already
// refuses any existing name, a link included.
const noFollow = 0
