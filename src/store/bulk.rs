//! Start-up reads at SQLite's own speed. sqlx hands every row from its worker thread to
//! the async side as a copy of each value, which costs more than everything else loading
//! a key does (about 25 µs a key). [`Rows`] steps a statement directly on sqlx's own
//! connection, locked for the duration, and lends each row's values in place.
//!
//! This is trent's only `unsafe` code: a statement handle, the row it is on, and the
//! borrows SQLite's documentation gives for the values of that row.

use std::ffi::{CStr, c_int};
use std::ptr::{self, NonNull};

use libsqlite3_sys as ffi;

use crate::BoxError;

/// A connection's raw handle, borrowed from sqlx while its connection is locked.
pub type Db = NonNull<ffi::sqlite3>;

/// A prepared statement, stepped row by row.
pub struct Rows {
    db: Db,
    statement: NonNull<ffi::sqlite3_stmt>,
}

/// The row a [`Rows`] is on; its values are valid until the next step. Each column is read
/// with one accessor only: reading a blob as text converts it in place, which SQLite says
/// invalidates what an earlier accessor returned.
pub struct Row<'a> {
    statement: NonNull<ffi::sqlite3_stmt>,
    _rows: std::marker::PhantomData<&'a Rows>,
}

impl Rows {
    /// Prepares `sql` (no parameters) on `db`, the raw handle of a connection the caller
    /// holds locked (`LockedSqliteHandle`) for as long as the `Rows` lives.
    pub fn prepare(db: Db, sql: &CStr) -> Result<Self, BoxError> {
        let mut statement = ptr::null_mut();
        // SAFETY: `db` is an open connection that only this thread uses while it is
        // locked; `sql` is NUL-terminated; the out-pointer is valid.
        let code = unsafe {
            ffi::sqlite3_prepare_v2(
                db.as_ptr(),
                sql.as_ptr(),
                -1,
                &mut statement,
                ptr::null_mut(),
            )
        };
        match NonNull::new(statement) {
            Some(statement) if code == ffi::SQLITE_OK => Ok(Self { db, statement }),
            _ => Err(error(db, "prepare")),
        }
    }

    /// The next row, or `None` after the last.
    pub fn next(&mut self) -> Result<Option<Row<'_>>, BoxError> {
        // SAFETY: the statement is prepared and not finalized (it is finalized on drop).
        match unsafe { ffi::sqlite3_step(self.statement.as_ptr()) } {
            ffi::SQLITE_ROW => Ok(Some(Row {
                statement: self.statement,
                _rows: std::marker::PhantomData,
            })),
            ffi::SQLITE_DONE => Ok(None),
            _ => Err(error(self.db, "step")),
        }
    }
}

impl Drop for Rows {
    fn drop(&mut self) {
        // SAFETY: finalized exactly once, here.
        unsafe { ffi::sqlite3_finalize(self.statement.as_ptr()) };
    }
}

impl Row<'_> {
    fn is_null(&self, column: c_int) -> bool {
        // SAFETY: the statement is on a row; an out-of-range column reads as NULL.
        unsafe { ffi::sqlite3_column_type(self.statement.as_ptr(), column) == ffi::SQLITE_NULL }
    }

    pub fn int(&self, column: c_int) -> Option<i64> {
        // SAFETY: as in `is_null`.
        (!self.is_null(column))
            .then(|| unsafe { ffi::sqlite3_column_int64(self.statement.as_ptr(), column) })
    }

    pub fn blob(&self, column: c_int) -> Option<&[u8]> {
        // SAFETY: the value's bytes stay valid until the statement steps again, which
        // needs `&mut Rows` and so ends this borrow first.
        unsafe {
            let data = ffi::sqlite3_column_blob(self.statement.as_ptr(), column);
            self.value(column, data.cast())
        }
    }

    /// The bytes at `data`, as just returned for `column`. Each call into SQLite costs
    /// dozens of instructions and a row makes a few dozen, so a NULL pointer (a NULL value
    /// or an empty one) is told apart only then, and only a value that has bytes is
    /// measured.
    ///
    /// # Safety
    /// `data` comes from this row's blob or text accessor for `column`, called just before.
    unsafe fn value(&self, column: c_int, data: *const u8) -> Option<&[u8]> {
        if data.is_null() {
            return (!self.is_null(column)).then_some(&[]);
        }
        // SAFETY: the length follows the accessor that returned `data` (the documented
        // order); both stay valid until the next step (see `blob`).
        Some(unsafe {
            let len = ffi::sqlite3_column_bytes(self.statement.as_ptr(), column);
            std::slice::from_raw_parts(data, len as usize)
        })
    }

    /// A TEXT value; `None` if NULL. Text that is not UTF-8 is an error.
    pub fn text(&self, column: c_int) -> Result<Option<&str>, BoxError> {
        // SAFETY: as in `blob`; `sqlite3_column_text` converts the value to UTF-8 text in
        // place before `sqlite3_column_bytes` measures it.
        let bytes = unsafe {
            let data = ffi::sqlite3_column_text(self.statement.as_ptr(), column);
            self.value(column, data)
        };
        Ok(bytes.map(std::str::from_utf8).transpose()?)
    }

    /// A NOT NULL value's bytes, text read as it is stored (UTF-8, unchecked here).
    pub fn bytes(&self, column: c_int) -> Result<&[u8], BoxError> {
        self.blob(column).ok_or_else(|| null(column))
    }

    /// A NOT NULL TEXT value.
    pub fn str(&self, column: c_int) -> Result<&str, BoxError> {
        self.text(column)?.ok_or_else(|| null(column))
    }
}

fn null(column: c_int) -> BoxError {
    format!("column {column} is NULL").into()
}

fn error(db: Db, what: &str) -> BoxError {
    // SAFETY: the connection is open; the message is NUL-terminated and copied at once.
    let message = unsafe { CStr::from_ptr(ffi::sqlite3_errmsg(db.as_ptr())) };
    format!("{what}: {}", message.to_string_lossy()).into()
}
