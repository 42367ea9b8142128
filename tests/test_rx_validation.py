"""Clinical validation of a typed Rx: every rule accepted and refused, with the sentence a technician reads."""

from datetime import date
from decimal import Decimal

import pytest

from services.rx_validation import (
    EyeInput,
    InvalidPrescription,
    RxInput,
    RxValues,
    add_months,
    one_calendar_year_after,
    validate,
)

TODAY = date(2027, 6, 1)


def spectacle(od: dict[str, str] | None = None, os: dict[str, str] | None = None, **fields: object) -> RxInput:
    base = {'sphere': '-2.00', 'cylinder': '-0.50', 'axis': '90'}
    return RxInput(
        **{
            'kind': 'spectacle',
            'provider_id': 1,
            'exam_date': TODAY,
            'purpose': 'distance',
            **fields,
        },
        eyes={'OD': EyeInput(**{**base, **(od or {})}), 'OS': EyeInput(**{**base, **(os or {})})},
    )


def contact(od: dict[str, str] | None = None, **fields: object) -> RxInput:
    base = {'sphere': '-2.50', 'base_curve': '8.60', 'diameter': '14.2', 'brand': 'AcmeDaily'}
    return RxInput(
        **{'kind': 'contact_lens', 'provider_id': 1, 'exam_date': TODAY, **fields},
        eyes={'OD': EyeInput(**{**base, **(od or {})}), 'OS': EyeInput(**base)},
    )


def check(form: RxInput) -> RxValues:
    return validate(form, today=TODAY, spectacle_expiry_months=24)


def refused(form: RxInput) -> str:
    with pytest.raises(InvalidPrescription) as error:
        check(form)
    return str(error.value)


@pytest.mark.parametrize('sphere', ['-30.00', '+30.00', '0', 'PL', 'plano', '+0.25', '-12.75'])
def test_sphere_from_minus_to_plus_thirty_in_quarter_steps_is_accepted(sphere: str):
    assert check(spectacle(od={'sphere': sphere})).eyes[0].sphere == Decimal(
        sphere.replace('PL', '0').replace('plano', '0')
    )


@pytest.mark.parametrize(
    ('sphere', 'message'),
    [
        ('-30.25', 'Right eye (OD): sphere must be between -30.00 and +30.00'),
        ('+31', 'between -30.00 and +30.00'),
        ('-2.10', 'sphere goes in 0.25 D steps'),
        ('abc', 'is not a number'),
        ('', 'enter the sphere'),
    ],
)
def test_sphere_outside_range_or_steps_is_refused(sphere: str, message: str):
    assert message in refused(spectacle(od={'sphere': sphere}))


@pytest.mark.parametrize('cylinder', ['-15.00', '+15.00', '-0.25', '+1.75'])
def test_plus_and_minus_cylinder_are_accepted_and_stored_as_written(cylinder: str):
    assert check(spectacle(os={'cylinder': cylinder})).eyes[1].cylinder == Decimal(cylinder)


@pytest.mark.parametrize(
    ('cylinder', 'message'),
    [('-15.25', 'cylinder must be between -15.00 and +15.00'), ('-0.30', 'cylinder goes in 0.25 D steps')],
)
def test_cylinder_outside_range_or_steps_is_refused(cylinder: str, message: str):
    assert message in refused(spectacle(os={'cylinder': cylinder}))


@pytest.mark.parametrize('axis', ['1', '180', '045'])
def test_axis_whole_number_from_1_to_180_is_accepted(axis: str):
    assert check(spectacle(od={'axis': axis})).eyes[0].axis == int(axis)


@pytest.mark.parametrize('axis', ['0', '181', '90.5', '-5', 'x'])
def test_axis_outside_1_to_180_or_not_whole_is_refused(axis: str):
    assert 'the axis must be a whole number from 1 to 180' in refused(spectacle(od={'axis': axis}))


def test_cylinder_without_axis_is_refused():
    assert 'a cylinder needs an axis' in refused(spectacle(od={'axis': ''}))


def test_axis_without_cylinder_is_refused():
    assert 'an axis is only written with a cylinder' in refused(spectacle(od={'cylinder': '', 'axis': '90'}))


@pytest.mark.parametrize('written', ['', 'DS', 'sph', '0.00'])
def test_sphere_only_eye_is_accepted_without_axis(written: str):
    eye = check(spectacle(od={'cylinder': written, 'axis': ''})).eyes[0]
    assert eye.cylinder is None and eye.axis is None


@pytest.mark.parametrize('add', ['+0.50', '4.00', '+2.25'])
def test_add_from_half_to_four_diopters_in_quarter_steps_is_accepted(add: str):
    assert check(spectacle(od={'add': add})).eyes[0].add == Decimal(add)


@pytest.mark.parametrize('add', ['+0.25', '+4.25', '+1.10', '-1.00'])
def test_add_outside_range_or_steps_is_refused(add: str):
    assert 'the add must be from +0.50 to +4.00 in 0.25 D steps' in refused(spectacle(od={'add': add}))


def test_prism_per_eye_with_horizontal_and_vertical_base_is_accepted():
    eye = check(
        spectacle(
            od={
                'prism_horizontal': '1.5',
                'prism_horizontal_base': 'bo',
                'prism_vertical': '0.5',
                'prism_vertical_base': 'BD',
            }
        )
    ).eyes[0]
    assert (eye.prism, eye.prism_base, eye.prism_vertical, eye.prism_vertical_base) == (
        Decimal('1.50'),
        'BO',
        Decimal('0.50'),
        'BD',
    )


@pytest.mark.parametrize(
    ('eye', 'message'),
    [
        ({'prism_horizontal': '2'}, 'choose the base of the horizontal prism (BI or BO)'),
        ({'prism_horizontal': '2', 'prism_horizontal_base': 'BU'}, 'horizontal prism (BI or BO)'),
        ({'prism_vertical': '1', 'prism_vertical_base': 'BI'}, 'vertical prism (BU or BD)'),
        ({'prism_vertical_base': 'BU'}, 'needs a vertical prism amount'),
        ({'prism_horizontal': '25', 'prism_horizontal_base': 'BI'}, 'at most 20 prism diopters'),
    ],
)
def test_prism_without_a_matching_base_or_too_strong_is_refused(eye: dict[str, str], message: str):
    assert message in refused(spectacle(os=eye))


def test_binocular_or_monocular_pd_in_millimeters_is_accepted():
    assert check(spectacle(pd_binocular='63.5')).pd_binocular == Decimal('63.5')
    values = check(spectacle(pd_od='32', pd_os='31.5'))
    assert (values.pd_od, values.pd_os) == (Decimal('32.0'), Decimal('31.5'))


@pytest.mark.parametrize(
    ('fields', 'message'),
    [
        ({'pd_binocular': '120'}, 'the binocular PD must be from 40 to 85 mm'),
        ({'pd_binocular': '63', 'pd_od': '32'}, 'either one binocular PD or a PD for each eye'),
        ({'pd_od': '32'}, 'a monocular PD needs both eyes'),
        ({'pd_od': '60', 'pd_os': '31'}, 'the right (OD) PD must be from 20 to 43 mm'),
    ],
)
def test_impossible_pd_is_refused(fields: dict[str, str], message: str):
    assert message in refused(spectacle(**fields))


@pytest.mark.parametrize('purpose', ['distance', 'near', 'computer', 'progressive', 'other'])
def test_every_spectacle_purpose_is_accepted(purpose: str):
    assert check(spectacle(purpose=purpose)).purpose.value == purpose


def test_spectacle_rx_without_purpose_is_refused():
    assert 'Choose what the glasses are for' in refused(spectacle(purpose=''))


def test_spectacle_expiry_defaults_to_the_practice_setting():
    assert validate(spectacle(), today=TODAY, spectacle_expiry_months=12).expiry_date == date(2028, 6, 1)
    assert validate(spectacle(), today=TODAY, spectacle_expiry_months=24).expiry_date == date(2029, 6, 1)


def test_contact_lens_values_within_range_are_accepted():
    values = check(
        contact(od={'base_curve': '6.00', 'diameter': '24.0', 'cylinder': '-1.25', 'axis': '180', 'add': 'high'})
    )
    eye = values.eyes[0]
    assert (eye.base_curve, eye.diameter, eye.cylinder, eye.axis, eye.add_level) == (
        Decimal('6.00'),
        Decimal('24.0'),
        Decimal('-1.25'),
        180,
        'HIGH',
    )
    assert (
        check(contact(od={'base_curve': '10.50', 'diameter': '7.0', 'add': '+1.50', 'dominance': 'd'}))
        .eyes[0]
        .dominance
        == 'D'
    )


@pytest.mark.parametrize(
    ('eye', 'message'),
    [
        ({'base_curve': '5.90'}, 'the base curve must be from 6.00 to 10.50 mm'),
        ({'base_curve': '10.60'}, 'the base curve must be from 6.00 to 10.50 mm'),
        ({'diameter': '6.9'}, 'the diameter must be from 7.0 to 24.0 mm'),
        ({'diameter': '24.5'}, 'the diameter must be from 7.0 to 24.0 mm'),
        ({'base_curve': ''}, 'enter the base curve'),
        ({'diameter': ''}, 'enter the diameter'),
        ({'brand': '', 'manufacturer': ''}, 'enter the lens manufacturer or brand'),
        ({'add': 'VERY HIGH'}, 'or LOW, MED or HIGH for a contact lens'),
        ({'dominance': 'X'}, 'dominance is D (dominant) or N (non-dominant)'),
        ({'sphere': '-2.10'}, 'power goes in 0.25 D steps'),
    ],
)
def test_contact_lens_values_out_of_range_are_refused(eye: dict[str, str], message: str):
    assert message in refused(contact(od=eye))


def test_contact_lens_expiry_is_one_calendar_year_by_default():
    assert check(contact()).expiry_date == date(2028, 6, 1)
    assert one_calendar_year_after(date(2028, 2, 29)) == date(2029, 3, 1)


def test_shorter_contact_lens_expiry_is_refused_without_a_medical_reason():
    assert 'an earlier expiry needs the medical reason recorded' in refused(contact(expiry_date=date(2028, 5, 31)))


def test_shorter_contact_lens_expiry_is_accepted_with_a_medical_reason():
    values = check(
        contact(expiry_date=date(2027, 12, 1), expiry_reason='Corneal neovascularization: review in 6 months')
    )
    assert values.expiry_date == date(2027, 12, 1)
    assert values.expiry_reason.startswith('Corneal')


@pytest.mark.parametrize(
    ('fields', 'message'),
    [
        ({'exam_date': date(2027, 6, 2)}, 'The exam date cannot be in the future'),
        ({'issue_date': date(2027, 5, 1)}, 'The issue date cannot be before the exam date'),
        ({'expiry_date': date(2027, 6, 1)}, 'The expiry date must be after the issue date'),
        ({'provider_id': None}, 'Choose the prescriber'),
        ({'kind': 'monocle'}, 'Choose glasses or contact lenses'),
    ],
)
def test_dates_prescriber_and_kind_are_checked(fields: dict[str, object], message: str):
    assert message in refused(spectacle(**fields))


def test_add_months_keeps_the_day_or_falls_back_to_the_month_end():
    assert add_months(date(2027, 1, 31), 1) == date(2027, 2, 28)
    assert add_months(date(2027, 6, 1), 24) == date(2029, 6, 1)
