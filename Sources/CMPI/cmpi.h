// Open MPI for Swift. MPI's handles (MPI_COMM_WORLD, MPI_FLOAT, ...) are macros over
// addresses of predefined objects, which Swift cannot import; each is exposed here as a
// static inline function instead.
#ifndef SWTRAIN_CMPI_H
#define SWTRAIN_CMPI_H
#include <mpi.h>

static inline MPI_Comm swt_mpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Comm swt_mpi_comm_null(void) { return MPI_COMM_NULL; }
static inline MPI_Datatype swt_mpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype swt_mpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype swt_mpi_byte(void) { return MPI_BYTE; }
static inline MPI_Datatype swt_mpi_int64(void) { return MPI_INT64_T; }
static inline MPI_Datatype swt_mpi_uint64(void) { return MPI_UINT64_T; }
static inline MPI_Op swt_mpi_sum(void) { return MPI_SUM; }
static inline MPI_Op swt_mpi_max(void) { return MPI_MAX; }
static inline MPI_Op swt_mpi_min(void) { return MPI_MIN; }
static inline void *swt_mpi_in_place(void) { return MPI_IN_PLACE; }
static inline MPI_Status *swt_mpi_status_ignore(void) { return MPI_STATUS_IGNORE; }
static inline MPI_Status *swt_mpi_statuses_ignore(void) { return MPI_STATUSES_IGNORE; }
static inline MPI_Request swt_mpi_request_null(void) { return MPI_REQUEST_NULL; }
static inline MPI_Errhandler swt_mpi_errors_return(void) { return MPI_ERRORS_RETURN; }
static inline int swt_mpi_any_source(void) { return MPI_ANY_SOURCE; }
static inline int swt_mpi_undefined(void) { return MPI_UNDEFINED; }
static inline int swt_mpi_thread_funneled(void) { return MPI_THREAD_FUNNELED; }
static inline int swt_mpi_thread_serialized(void) { return MPI_THREAD_SERIALIZED; }
static inline int swt_mpi_success(void) { return MPI_SUCCESS; }
static inline int swt_mpi_max_error_string(void) { return MPI_MAX_ERROR_STRING; }
static inline MPI_Datatype swt_mpi_int(void) { return MPI_INT; }
static inline MPI_Errhandler swt_mpi_errors_are_fatal(void) { return MPI_ERRORS_ARE_FATAL; }
static inline int swt_mpi_thread_single(void) { return MPI_THREAD_SINGLE; }
static inline int swt_mpi_thread_multiple(void) { return MPI_THREAD_MULTIPLE; }
static inline int swt_mpi_any_tag(void) { return MPI_ANY_TAG; }
static inline MPI_Info swt_mpi_info_null(void) { return MPI_INFO_NULL; }
static inline MPI_Win swt_mpi_win_null(void) { return MPI_WIN_NULL; }
static inline int swt_mpi_comm_type_shared(void) { return MPI_COMM_TYPE_SHARED; }
static inline int swt_mpi_mode_nocheck(void) { return MPI_MODE_NOCHECK; }
/* The largest tag every implementation must accept (MPI_TAG_UB is at least 32767). */
static inline int swt_mpi_min_tag_ub(void) { return 32767; }
#endif
