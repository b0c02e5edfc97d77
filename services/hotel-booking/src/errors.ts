import { AppError } from '@platform/kit';

/** The hotel booking error catalogue; the kit's catalogue covers the generic cases. */
export const hotelErrors = {
  hotel_not_found: { status: 404, message: 'no hotel with this id' },
  room_not_found: { status: 404, message: 'no room with this id' },
  booking_not_found: { status: 404, message: 'no booking with this id for this user' },
  payment_signature_required: {
    status: 401,
    message: "a payment callback must carry the provider's signature",
  },
  payment_signature_invalid: {
    status: 401,
    message: 'the signature does not match the callback and the shared secret',
  },
  amount_mismatch: { status: 409, message: 'the amount paid is not the amount of the booking' },
  invoice_not_found: { status: 404, message: 'the booking has no invoice: it was never paid' },
  room_in_other_hotel: { status: 409, message: 'this room id belongs to another hotel' },
  quantity_below_held: {
    status: 409,
    message: 'some night already has more rooms held or sold than the new quantity',
  },
  rooms_unavailable: {
    status: 409,
    message: 'not enough rooms are free on every night of the stay',
  },
  dates_not_open: { status: 409, message: 'some nights of the stay are not on sale' },
  already_paid: { status: 409, message: 'the booking is paid; cancel it to get a refund' },
  stay_started: { status: 409, message: 'the stay has begun and can no longer be cancelled' },
  booking_contended: {
    status: 409,
    message: 'the booking kept changing while this request ran; try again',
  },
} as const;

export type HotelErrorCode = keyof typeof hotelErrors;

export function hotelError(
  code: HotelErrorCode,
  details: { field?: string; message?: string; cause?: unknown } = {},
): AppError {
  return AppError.of(hotelErrors, code, details);
}
